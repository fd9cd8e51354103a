variable "name" {
  type        = string
  description = "Prefix of the secrets' names, e.g. qts-staging (gives qts-staging/ssi)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name is 3-41 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can still be restored (0 deletes at once)."
  default     = 30
  validation {
    condition     = var.recovery_window_days == 0 || (var.recovery_window_days >= 7 && var.recovery_window_days <= 30)
    error_message = "recovery_window_days is 0 or 7 to 30."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
