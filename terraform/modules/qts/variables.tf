variable "environment" {
  type        = string
  description = "The environment: staging or production (the chart's global.environment, the namespace qts-<environment>)."
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment is staging or production."
  }
}

variable "chart_path" {
  type        = string
  description = "The chart's directory (deploy/k8s/qts of this repository)."
}

variable "install_chart" {
  type        = bool
  description = "Install the chart as a helm_release here. False when the deploy workflow owns the release (it reads the ConfigMap qts-infra-values this module writes); true for a cluster nothing else deploys to."
  default     = false
}

variable "image_repository" {
  type        = string
  description = "The image's repository on ghcr.io, owner/name in lower case."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._/-]*$", var.image_repository))
    error_message = "image_repository is owner/name in lower case."
  }
}

variable "image_tag" {
  type        = string
  description = "The image tag to install when install_chart is true: X.Y.Z or sha-<commit>."
  default     = ""
  validation {
    condition     = var.image_tag == "" || can(regex("^([0-9]+\\.[0-9]+\\.[0-9]+.*|sha-[0-9a-f]{40})$", var.image_tag))
    error_message = "image_tag is X.Y.Z or sha-<40 hex digits> (or empty for the chart's appVersion)."
  }
}

variable "kafka_brokers" {
  type        = string
  description = "Comma-separated Kafka bootstrap servers."
  validation {
    condition     = length(trimspace(var.kafka_brokers)) > 0
    error_message = "kafka_brokers is not empty."
  }
}

variable "kafka_replication_factor" {
  type        = number
  description = "Replication factor of the topics the services create."
  default     = 3
  validation {
    condition     = var.kafka_replication_factor >= 1 && var.kafka_replication_factor <= 3
    error_message = "kafka_replication_factor is 1 to 3."
  }
}

variable "database_url" {
  type        = string
  description = "The services' database.url, with {service} for each service's name in snake case."
  sensitive   = true
  validation {
    condition     = startswith(var.database_url, "postgres://") && strcontains(var.database_url, "{service}")
    error_message = "database_url is a postgres:// URL with {service} in the database name."
  }
}

variable "database_admin_url" {
  type        = string
  description = "A URL of the server with the right to create databases: the job creates qts_<service> for every service."
  sensitive   = true
}

variable "redis_url" {
  type        = string
  description = "The services' cache.url."
  sensitive   = true
  validation {
    condition     = can(regex("^rediss?://", var.redis_url))
    error_message = "redis_url is a redis:// or rediss:// URL."
  }
}

variable "ssi_secret_arn" {
  type        = string
  description = "ARN of the Secrets Manager secret with the SSI credentials (copied into the Secret qts-ssi)."
}

variable "env_secrets" {
  type        = map(string)
  description = "Environment variables with secrets for every pod (the Secret qts-env)."
  sensitive   = true
  default     = {}
}

variable "backend_cidrs" {
  type        = list(string)
  description = "CIDR blocks of Kafka, PostgreSQL and Redis (the private subnets): the network policies' egress."
  validation {
    condition     = alltrue([for c in var.backend_cidrs : can(cidrnetmask(c))])
    error_message = "backend_cidrs are IPv4 CIDR blocks."
  }
}

variable "postgres_image" {
  type        = string
  description = "The image of the job that creates the databases (psql)."
  default     = "postgres:17.5-bookworm"
}
