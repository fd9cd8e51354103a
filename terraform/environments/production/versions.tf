terraform {
  required_version = ">= 1.6.0"

  # The providers this root configures; modules/platform and the modules under it pin the rest.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 6.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.36"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }

  # State in S3 with locking, encrypted (it holds the generated passwords and keys):
  #   terraform init -backend-config=bucket=<bucket> -backend-config=region=<region>
  # (key and the rest below).
  backend "s3" {
    key          = "qts/production/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
