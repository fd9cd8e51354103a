output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "The VPC's CIDR block."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "The private subnets, one per zone: nodes, brokers, databases, caches."
  value       = aws_subnet.private[*].id
}

output "private_subnet_cidrs" {
  description = "The private subnets' CIDR blocks (the chart's network policies allow egress to them)."
  value       = aws_subnet.private[*].cidr_block
}

output "public_subnet_ids" {
  description = "The public subnets, one per zone: load balancers only."
  value       = aws_subnet.public[*].id
}
