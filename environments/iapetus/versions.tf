terraform {
  required_version = ">= 1.0.0"

  required_providers {
    # Same source address as the Go provider; Floe's provider is put in its
    # place by the Terraform CLI configuration (docs/environments.md).
    incus = {
      source = "lxc/incus"
    }
  }
}

provider "incus" {
  # The local server (or var.incus_remote) comes from the incus CLI
  # configuration. ghcr.io is an OCI image remote for the Atlantis image.
  remote {
    name     = "ghcr"
    address  = "https://ghcr.io"
    protocol = "oci"
  }
}
