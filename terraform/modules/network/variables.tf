variable "name" {
  type        = string
  description = "Name prefix of every resource, e.g. qts-staging."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name is 3-31 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "cidr" {
  type        = string
  description = "The VPC's IPv4 CIDR block; split into one public and one private subnet per zone."
  default     = "10.20.0.0/16"
  validation {
    condition     = can(cidrnetmask(var.cidr)) && tonumber(split("/", var.cidr)[1]) <= 20
    error_message = "cidr is an IPv4 CIDR block of /20 or larger."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "The availability zones to spread subnets over (EKS, MSK and RDS need at least two)."
  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "Give two to four availability zones."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for every zone (cheaper; staging) instead of one per zone (production)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
