# What an operator passes at apply time (-var); the environment's sizes are in main.tf.

variable "api_access_cidrs" {
  type        = list(string)
  description = "Who may reach the Kubernetes API from the internet (operators, the deploy runners); empty: private endpoint only."
  default     = []
  validation {
    condition     = alltrue([for c in var.api_access_cidrs : can(cidrnetmask(c))])
    error_message = "api_access_cidrs are IPv4 CIDR blocks."
  }
}

variable "admin_role_arns" {
  type        = list(string)
  description = "IAM roles with cluster-admin access: the deploy workflow's role (its AWS_DEPLOY_ROLE_ARN) and the operators'."
  default     = []
}

variable "image_repository" {
  type        = string
  description = "The fleet's image on ghcr.io (release.yml pushes it), owner/name in lower case."
  default     = "qts-vn/qts"
}

variable "install_chart" {
  type        = bool
  description = "Install the chart from terraform too. Leave false: the deploy workflow owns the release and reads the ConfigMap qts-infra-values; true only for a cluster nothing else deploys to."
  default     = false
}

variable "image_tag" {
  type        = string
  description = "The release to install when install_chart is true (X.Y.Z or sha-<commit>); empty: the chart's appVersion."
  default     = ""
}
