provider "aws" {
  region = local.region
  default_tags {
    tags = module.platform.tags
  }
}

# The cluster this root makes; tokens from the AWS CLI, as kubectl gets them.
provider "kubernetes" {
  host                   = module.platform.kubernetes.host
  cluster_ca_certificate = module.platform.kubernetes.cluster_ca_certificate
  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = module.platform.kubernetes.exec_args
  }
}

provider "helm" {
  kubernetes {
    host                   = module.platform.kubernetes.host
    cluster_ca_certificate = module.platform.kubernetes.cluster_ca_certificate
    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = module.platform.kubernetes.exec_args
    }
  }
}
