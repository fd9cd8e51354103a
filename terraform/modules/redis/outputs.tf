output "url" {
  description = "The services' cache.url (the primary endpoint)."
  value       = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379"
  sensitive   = true
}

output "security_group_id" {
  description = "The cache's security group."
  value       = aws_security_group.this.id
}
