output "bootstrap_brokers" {
  description = "Comma-separated plaintext bootstrap servers (the services' bus.kafka.brokers)."
  value       = aws_msk_cluster.this.bootstrap_brokers
}

output "security_group_id" {
  description = "The brokers' security group."
  value       = aws_security_group.this.id
}
