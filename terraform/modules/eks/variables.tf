variable "name" {
  type        = string
  description = "The cluster's name, e.g. qts-staging (the deploy workflow's EKS_CLUSTER_NAME)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,38}$", var.name))
    error_message = "name is 3-39 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "The EKS Kubernetes version (the chart needs 1.25 or newer)."
  default     = "1.33"
  validation {
    condition     = can(regex("^1\\.(2[5-9]|3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version is 1.25 to 1.39, as MAJOR.MINOR."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "The private subnets of the control plane's network interfaces and the nodes."
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "public_access_cidrs" {
  type        = list(string)
  description = "Who may reach the Kubernetes API from the internet (the deploy runners, operators); empty: private endpoint only."
  default     = []
  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c))])
    error_message = "public_access_cidrs are IPv4 CIDR blocks."
  }
}

variable "node_instance_types" {
  type        = list(string)
  description = "EC2 instance types of the managed node group."
  default     = ["m6i.large"]
  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "Give at least one instance type."
  }
}

variable "node_count" {
  type = object({
    min     = number
    desired = number
    max     = number
  })
  description = "The node group's size: min <= desired <= max."
  default     = { min = 2, desired = 3, max = 6 }
  validation {
    condition     = var.node_count.min >= 1 && var.node_count.min <= var.node_count.desired && var.node_count.desired <= var.node_count.max
    error_message = "node_count needs 1 <= min <= desired <= max."
  }
}

variable "node_disk_gib" {
  type        = number
  description = "Root volume of each node, GiB."
  default     = 50
  validation {
    condition     = var.node_disk_gib >= 20 && var.node_disk_gib <= 1000
    error_message = "node_disk_gib is 20 to 1000."
  }
}

variable "admin_role_arns" {
  type        = list(string)
  description = "IAM roles given cluster-admin access: the deploy workflow's AWS_DEPLOY_ROLE_ARN and the operators'."
  default     = []
  validation {
    condition     = alltrue([for a in var.admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "admin_role_arns are IAM role ARNs."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
