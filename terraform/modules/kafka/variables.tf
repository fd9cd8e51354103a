variable "name" {
  type        = string
  description = "The MSK cluster's name, e.g. qts-staging."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,60}$", var.name))
    error_message = "name is 3-61 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "The VPC of the brokers."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets, one per availability zone; the broker count is a multiple of their number."
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "MSK needs subnets in at least two availability zones."
  }
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to reach the brokers (the EKS cluster's)."
}

variable "kafka_version" {
  type        = string
  description = "The Apache Kafka version of the brokers."
  default     = "3.8.x"
}

variable "broker_instance_type" {
  type        = string
  description = "The brokers' instance type."
  default     = "kafka.m7g.large"
  validation {
    condition     = startswith(var.broker_instance_type, "kafka.")
    error_message = "broker_instance_type is an MSK type (kafka.*)."
  }
}

variable "broker_count" {
  type        = number
  description = "Number of brokers, a multiple of the subnet count (3 for a replication factor of 3)."
  default     = 3
  validation {
    condition     = var.broker_count >= 2 && floor(var.broker_count) == var.broker_count
    error_message = "broker_count is a whole number of at least 2."
  }
}

variable "volume_gib" {
  type        = number
  description = "EBS storage per broker, GiB (a busy trading day of market data is about 3.3 GB before replication)."
  default     = 200
  validation {
    condition     = var.volume_gib >= 10 && var.volume_gib <= 16384
    error_message = "volume_gib is 10 to 16384."
  }
}

variable "replication_factor" {
  type        = number
  description = "Default replication factor of the topics (the services create theirs with the chart's config.bus.kafka.replicationFactor)."
  default     = 3
  validation {
    condition     = var.replication_factor >= 1 && var.replication_factor <= 3
    error_message = "replication_factor is 1 to 3."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
