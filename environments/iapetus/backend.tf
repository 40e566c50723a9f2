# Local state by default (terraform.tfstate next to this file).
#
# Remote state (what Atlantis uses): replace the block below, e.g. with an
# S3-compatible bucket (Incus storage buckets work):
#
#   terraform {
#     backend "s3" {
#       bucket                      = "floe-tfstate"
#       key                         = "iapetus/terraform.tfstate"
#       region                      = "us-east-1"
#       endpoint                    = "https://iapetus.example.net:8555"
#       skip_credentials_validation = true
#       skip_region_validation      = true
#       force_path_style            = true
#     }
#   }
#
# then `terraform init -migrate-state`. See docs/environments.md.
terraform {
  backend "local" {}
}
