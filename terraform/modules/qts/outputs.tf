output "namespace" {
  description = "The fleet's namespace (qts-<environment>), where the deploy workflow installs the chart."
  value       = kubernetes_namespace_v1.this.metadata[0].name
}

output "infra_values_config_map" {
  description = "The ConfigMap with the chart values from the infrastructure (key values.yaml)."
  value       = kubernetes_config_map_v1.infra_values.metadata[0].name
}

output "databases" {
  description = "The databases the job created, one per service."
  value       = local.databases
}

output "release_installed" {
  description = "Whether this module installed the chart (install_chart)."
  value       = length(helm_release.qts) > 0
}
