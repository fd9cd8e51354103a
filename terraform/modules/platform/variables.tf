# Every variable is required: an environment states each size it runs with. Where a value only
# passes through, the module it goes to checks it (its validation names the module's variable).

variable "environment" {
  type        = string
  description = "The environment: staging or production (names everything qts-<environment>, picks the chart's values-<environment>.yaml)."
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment is staging or production."
  }
}

variable "region" {
  type        = string
  description = "The AWS region the root's aws provider uses (the EKS token command names it too)."
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region is an AWS region name such as ap-southeast-1."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "The availability zones of the region to use (at least two); one Kafka broker per zone."
  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Give at least two availability zones."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's CIDR block."
  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr is an IPv4 CIDR block."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for every zone (cheaper; staging) instead of one per zone (production)."
}

variable "api_access_cidrs" {
  type        = list(string)
  description = "Who may reach the Kubernetes API from the internet (operators, the deploy runners); empty: private endpoint only."
  validation {
    condition     = alltrue([for c in var.api_access_cidrs : can(cidrnetmask(c))])
    error_message = "api_access_cidrs are IPv4 CIDR blocks."
  }
}

variable "admin_role_arns" {
  type        = list(string)
  description = "IAM roles with cluster-admin access: the deploy workflow's role (its AWS_DEPLOY_ROLE_ARN) and the operators'."
}

variable "node_instance_types" {
  type        = list(string)
  description = "EC2 instance types of the EKS managed node group."
}

variable "node_count" {
  type = object({
    min     = number
    desired = number
    max     = number
  })
  description = "The EKS node group's size: min <= desired <= max."
}

variable "kafka_broker_instance_type" {
  type        = string
  description = "The MSK brokers' instance type (kafka.*)."
}

variable "kafka_volume_gib" {
  type        = number
  description = "EBS storage per MSK broker, GiB."
}

variable "postgres_instance_class" {
  type        = string
  description = "The RDS PostgreSQL instance class (db.*)."
}

variable "postgres_allocated_storage_gib" {
  type        = number
  description = "The database's initial storage, GiB; it grows on its own up to postgres_max_allocated_storage_gib."
}

variable "postgres_max_allocated_storage_gib" {
  type        = number
  description = "The database's storage autoscaling ceiling, GiB."
}

variable "postgres_multi_az" {
  type        = bool
  description = "A standby database in another zone with automatic failover (production)."
}

variable "postgres_backup_retention_days" {
  type        = number
  description = "Days of automated database backups and point-in-time recovery."
}

variable "postgres_deletion_protection" {
  type        = bool
  description = "Refuse to delete the database (and take a final snapshot when it is deleted)."
}

variable "redis_node_type" {
  type        = string
  description = "The ElastiCache node type (cache.*)."
}

variable "redis_nodes" {
  type        = number
  description = "ElastiCache nodes: 1 (no failover) or more (a primary and replicas with automatic failover)."
}

variable "secrets_recovery_window_days" {
  type        = number
  description = "Days a deleted Secrets Manager secret can still be restored (0 deletes at once)."
}

variable "image_repository" {
  type        = string
  description = "The fleet's image on ghcr.io (release.yml pushes it), owner/name in lower case."
}

variable "install_chart" {
  type        = bool
  description = "Install the chart from terraform too; false when the deploy workflow owns the release (see modules/qts)."
}

variable "image_tag" {
  type        = string
  description = "The release to install when install_chart is true (X.Y.Z or sha-<commit>); empty: the chart's appVersion."
}
