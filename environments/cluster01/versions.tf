terraform {
  required_version = ">= 1.0.0"

  required_providers {
    # The same source address as the Go provider: Floe's provider is installed
    # in its place by the Terraform CLI configuration (see docs/environments.md),
    # so this file works unchanged with either.
    incus = {
      source = "lxc/incus"
    }
  }
}

provider "incus" {
  # Remotes come from the incus CLI configuration (~/.config/incus/config.yml).
  # Atlantis on iapetus manages cluster01 through the remote named by var.incus_remote.
}
