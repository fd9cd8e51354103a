output "cluster_name" {
  description = "The EKS cluster: the deploy workflow's EKS_CLUSTER_NAME (aws eks update-kubeconfig --name)."
  value       = module.eks.cluster_name
}

output "kubernetes" {
  description = "How the root's kubernetes and helm providers reach the cluster: its endpoint, its CA certificate (PEM) and the arguments of the aws command that issues a token, as kubectl gets one."
  value = {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority)
    exec_args              = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.region]
  }
}

output "tags" {
  description = "The tags of every resource (Project, Environment, ManagedBy): the root's aws provider default_tags."
  value       = local.tags
}

output "namespace" {
  description = "The fleet's namespace."
  value       = module.qts.namespace
}

output "kafka_bootstrap_brokers" {
  description = "The MSK bootstrap servers."
  value       = module.kafka.bootstrap_brokers
}

output "postgres_address" {
  description = "The RDS PostgreSQL host."
  value       = module.postgres.address
}

output "ssi_secret_arn" {
  description = "The Secrets Manager secret that holds the SSI credentials."
  value       = module.secrets.ssi_secret_arn
}

output "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (IAM roles for service accounts)."
  value       = module.eks.oidc_provider_arn
}
