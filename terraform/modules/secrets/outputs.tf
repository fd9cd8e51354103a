output "ssi_secret_arn" {
  description = "ARN of the SSI credentials secret (its values are put in by an operator)."
  value       = aws_secretsmanager_secret.ssi.arn
}

output "env_secret_arn" {
  description = "ARN of the secret environment variables of the pods."
  value       = aws_secretsmanager_secret.env.arn
}

output "env" {
  description = "The secret environment variables of the pods (SSO__KEYS__MASTER_KEY, CONFIG__KEYS__MASTER_KEY)."
  value       = jsondecode(aws_secretsmanager_secret_version.env.secret_string)
  sensitive   = true
}
