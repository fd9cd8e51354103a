variable "name" {
  type        = string
  description = "The replication group's id, e.g. qts-staging."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,39}$", var.name))
    error_message = "name is 3-40 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "The VPC of the cache."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the cache nodes."
  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "Give at least one subnet."
  }
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to reach Redis (the EKS cluster's)."
}

variable "engine_version" {
  type        = string
  description = "The Redis OSS engine version."
  default     = "7.1"
}

variable "node_type" {
  type        = string
  description = "The cache node type."
  default     = "cache.m7g.large"
  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type is an ElastiCache type (cache.*)."
  }
}

variable "nodes" {
  type        = number
  description = "Nodes in the group: 1 (no failover) or more (a primary and replicas with automatic failover)."
  default     = 2
  validation {
    condition     = var.nodes >= 1 && var.nodes <= 6
    error_message = "nodes is 1 to 6."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
