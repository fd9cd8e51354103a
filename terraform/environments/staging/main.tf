# Staging: production's shape on smaller machines, one NAT gateway, no standby database, and
# deletion allowed. The deploy workflow installs each commit of main here. The wiring is
# modules/platform; this root holds what differs.

locals {
  region = "ap-southeast-1"
}

module "platform" {
  source      = "../../modules/platform"
  environment = "staging"
  region      = local.region

  availability_zones = ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"]
  vpc_cidr           = "10.20.0.0/16"
  single_nat_gateway = true

  node_instance_types = ["m6i.large"]
  node_count          = { min = 2, desired = 3, max = 4 }

  kafka_broker_instance_type = "kafka.t3.small"
  kafka_volume_gib           = 100

  postgres_instance_class            = "db.t4g.medium"
  postgres_allocated_storage_gib     = 50
  postgres_max_allocated_storage_gib = 200
  postgres_multi_az                  = false
  postgres_backup_retention_days     = 3
  postgres_deletion_protection       = false

  redis_node_type = "cache.t4g.small"
  redis_nodes     = 1

  secrets_recovery_window_days = 7

  api_access_cidrs = var.api_access_cidrs
  admin_role_arns  = var.admin_role_arns
  image_repository = var.image_repository
  install_chart    = var.install_chart
  image_tag        = var.image_tag
}
