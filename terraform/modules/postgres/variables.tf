variable "name" {
  type        = string
  description = "The RDS instance's identifier, e.g. qts-staging."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,60}$", var.name))
    error_message = "name is 3-61 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "The VPC of the instance."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets in at least two availability zones."
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to reach PostgreSQL (the EKS cluster's)."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major (or major.minor) version."
  default     = "17"
  validation {
    condition     = can(regex("^1[5-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version is PostgreSQL 15 or newer."
  }
}

variable "instance_class" {
  type        = string
  description = "The RDS instance class."
  default     = "db.m7g.large"
  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class is an RDS class (db.*)."
  }
}

variable "allocated_storage_gib" {
  type        = number
  description = "Initial storage, GiB; it grows on its own up to max_allocated_storage_gib."
  default     = 100
  validation {
    condition     = var.allocated_storage_gib >= 20
    error_message = "allocated_storage_gib is at least 20."
  }
}

variable "max_allocated_storage_gib" {
  type        = number
  description = "The storage autoscaling ceiling, GiB."
  default     = 500
}

variable "multi_az" {
  type        = bool
  description = "A standby in another zone with automatic failover (production)."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups and point-in-time recovery."
  default     = 14
  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days is 1 to 35."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (and take a final snapshot when it is deleted)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
