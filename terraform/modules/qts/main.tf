# The fleet on the cluster: its namespace, the Secrets and the ConfigMap the chart reads, a job
# that creates every service's database, and (install_chart) the chart itself.
#
# The service list is the chart's files/services.json, generated from the service registry
# (crates/ops/src/helm.rs): a new service gets its database without touching this module.

locals {
  namespace = "qts-${var.environment}"
  services  = [for s in jsondecode(file("${var.chart_path}/files/services.json")).services : s.name]
  databases = [for name in local.services : "qts_${replace(name, "-", "_")}"]

  # What the chart needs from the infrastructure, on top of values-<environment>.yaml.
  infra_values = {
    config = {
      bus = {
        kind = "kafka"
        kafka = {
          brokers           = var.kafka_brokers
          replicationFactor = var.kafka_replication_factor
        }
      }
      database = {
        existingSecret = kubernetes_secret_v1.database.metadata[0].name
        key            = "database-url"
      }
      cache = {
        kind           = "redis"
        existingSecret = kubernetes_secret_v1.redis.metadata[0].name
        key            = "redis-url"
      }
    }
    ssi     = { existingSecret = kubernetes_secret_v1.ssi.metadata[0].name }
    secrets = { existingSecret = kubernetes_secret_v1.env.metadata[0].name }
    networkPolicy = {
      egress = {
        kafka    = { cidrs = var.backend_cidrs, peers = [], ports = [9092] }
        postgres = { cidrs = var.backend_cidrs, peers = [], ports = [5432] }
        redis    = { cidrs = var.backend_cidrs, peers = [], ports = [6379] }
      }
    }
  }
}

resource "kubernetes_namespace_v1" "this" {
  metadata {
    name = local.namespace
    labels = {
      "qts.io/environment"                 = var.environment
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
    }
  }
}

resource "kubernetes_secret_v1" "database" {
  metadata {
    name      = "qts-database"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = {
    "database-url" = var.database_url
  }
}

resource "kubernetes_secret_v1" "redis" {
  metadata {
    name      = "qts-redis"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = {
    "redis-url" = var.redis_url
  }
}

data "aws_secretsmanager_secret_version" "ssi" {
  secret_id = var.ssi_secret_arn
}

resource "kubernetes_secret_v1" "ssi" {
  metadata {
    name      = "qts-ssi"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = jsondecode(data.aws_secretsmanager_secret_version.ssi.secret_string)
}

resource "kubernetes_secret_v1" "env" {
  metadata {
    name      = "qts-env"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = var.env_secrets
}

resource "kubernetes_config_map_v1" "infra_values" {
  metadata {
    name      = "qts-infra-values"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = {
    "values.yaml" = yamlencode(local.infra_values)
  }
}

resource "kubernetes_secret_v1" "database_admin" {
  metadata {
    name      = "qts-database-admin"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  data = {
    "url"        = var.database_admin_url
    "create.sql" = join("\n", [for db in local.databases : "SELECT 'CREATE DATABASE ${db}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\\gexec"])
  }
}

resource "kubernetes_job_v1" "create_databases" {
  metadata {
    name      = "qts-create-databases-${substr(sha256(join(",", local.databases)), 0, 8)}"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  spec {
    backoff_limit = 6
    template {
      metadata {}
      spec {
        restart_policy = "OnFailure"
        security_context {
          run_as_non_root = true
          run_as_user     = 999
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }
        container {
          name    = "psql"
          image   = var.postgres_image
          command = ["sh", "-c", "psql -v ON_ERROR_STOP=1 -f /sql/create.sql \"$DATABASE_URL\""]
          env {
            name = "DATABASE_URL"
            value_from {
              secret_key_ref {
                name = kubernetes_secret_v1.database_admin.metadata[0].name
                key  = "url"
              }
            }
          }
          volume_mount {
            name       = "sql"
            mount_path = "/sql"
            read_only  = true
          }
          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }
        }
        volume {
          name = "sql"
          secret {
            secret_name = kubernetes_secret_v1.database_admin.metadata[0].name
            items {
              key  = "create.sql"
              path = "create.sql"
            }
          }
        }
      }
    }
  }
  wait_for_completion = true
  timeouts {
    create = "10m"
  }
}

resource "helm_release" "qts" {
  count            = var.install_chart ? 1 : 0
  name             = "qts"
  namespace        = kubernetes_namespace_v1.this.metadata[0].name
  chart            = var.chart_path
  create_namespace = false
  atomic           = true
  wait             = true
  timeout          = 1200
  values = [
    file("${var.chart_path}/values-${var.environment}.yaml"),
    yamlencode(local.infra_values),
    yamlencode({
      image = {
        registry   = "ghcr.io"
        repository = var.image_repository
        tag        = var.image_tag
      }
    }),
  ]
  depends_on = [kubernetes_job_v1.create_databases, kubernetes_config_map_v1.infra_values]
}
