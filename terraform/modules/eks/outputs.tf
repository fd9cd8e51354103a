output "cluster_name" {
  description = "The cluster's name (aws eks update-kubeconfig --name; the deploy workflow's EKS_CLUSTER_NAME)."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "The Kubernetes API's URL."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority" {
  description = "The cluster CA certificate, base64."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "The cluster security group, which the managed nodes carry: the backends admit it."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "The IAM OIDC provider of the cluster, for IAM roles of service accounts."
  value       = aws_iam_openid_connect_provider.this.arn
}
