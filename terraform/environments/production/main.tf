# Production: a NAT gateway and a standby database per zone, larger machines, deletion
# protection. The deploy workflow installs each release tag here after approval. The wiring
# is modules/platform; this root holds what differs.

locals {
  region = "ap-southeast-1"
}

module "platform" {
  source      = "../../modules/platform"
  environment = "production"
  region      = local.region

  availability_zones = ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"]
  vpc_cidr           = "10.30.0.0/16"
  single_nat_gateway = false

  node_instance_types = ["m6i.xlarge"]
  node_count          = { min = 3, desired = 4, max = 9 }

  kafka_broker_instance_type = "kafka.m7g.large"
  kafka_volume_gib           = 500

  postgres_instance_class            = "db.m7g.large"
  postgres_allocated_storage_gib     = 200
  postgres_max_allocated_storage_gib = 1000
  postgres_multi_az                  = true
  postgres_backup_retention_days     = 14
  postgres_deletion_protection       = true

  redis_node_type = "cache.m7g.large"
  redis_nodes     = 2

  secrets_recovery_window_days = 30

  api_access_cidrs = var.api_access_cidrs
  admin_role_arns  = var.admin_role_arns
  image_repository = var.image_repository
  install_chart    = var.install_chart
  image_tag        = var.image_tag
}
