output "cluster_name" {
  description = "The EKS cluster: the deploy workflow's EKS_CLUSTER_NAME (aws eks update-kubeconfig --name)."
  value       = module.platform.cluster_name
}

output "namespace" {
  description = "The fleet's namespace."
  value       = module.platform.namespace
}

output "kafka_bootstrap_brokers" {
  description = "The MSK bootstrap servers."
  value       = module.platform.kafka_bootstrap_brokers
}

output "postgres_address" {
  description = "The RDS PostgreSQL host."
  value       = module.platform.postgres_address
}

output "ssi_secret_arn" {
  description = "Put the SSI credentials here: aws secretsmanager put-secret-value --secret-id <arn> --secret-string file://ssi.json."
  value       = module.platform.ssi_secret_arn
}

output "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (IAM roles for service accounts)."
  value       = module.platform.oidc_provider_arn
}
