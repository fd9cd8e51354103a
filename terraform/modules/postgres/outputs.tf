output "address" {
  description = "The instance's host name."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "The instance's port."
  value       = aws_db_instance.this.port
}

output "admin_url" {
  description = "URL of the initial database qts as user qts (creates the services' databases)."
  value       = "postgres://qts:${random_password.master.result}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/qts?sslmode=require"
  sensitive   = true
}

output "database_url" {
  description = "The services' database.url: {service} becomes each service's name in snake case (qts_oms)."
  value       = "postgres://qts:${random_password.master.result}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/qts_{service}?sslmode=require"
  sensitive   = true
}

output "security_group_id" {
  description = "The instance's security group."
  value       = aws_security_group.this.id
}
