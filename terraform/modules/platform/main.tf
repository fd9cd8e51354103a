# One environment of the fleet: the network, the EKS cluster, the managed backends (MSK,
# RDS PostgreSQL, ElastiCache), the secrets and what the chart reads in the namespace. The
# roots in environments/ call this with their sizes; the providers are theirs (a module with
# provider blocks could not be removed or counted), configured from the outputs below.

locals {
  name = "qts-${var.environment}"
  tags = {
    Project     = "qts"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
  chart_path = "${path.module}/../../../deploy/k8s/qts"
  # One replication factor for the brokers' topic default and the topics the services create.
  kafka_replication_factor = 3
}

module "network" {
  source             = "../network"
  name               = local.name
  cidr               = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  tags               = local.tags
}

module "eks" {
  source              = "../eks"
  name                = local.name
  subnet_ids          = module.network.private_subnet_ids
  public_access_cidrs = var.api_access_cidrs
  admin_role_arns     = var.admin_role_arns
  node_instance_types = var.node_instance_types
  node_count          = var.node_count
  tags                = local.tags
}

module "kafka" {
  source                    = "../kafka"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  broker_instance_type      = var.kafka_broker_instance_type
  broker_count              = length(var.availability_zones)
  volume_gib                = var.kafka_volume_gib
  replication_factor        = local.kafka_replication_factor
  tags                      = local.tags
}

module "postgres" {
  source                    = "../postgres"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class            = var.postgres_instance_class
  allocated_storage_gib     = var.postgres_allocated_storage_gib
  max_allocated_storage_gib = var.postgres_max_allocated_storage_gib
  multi_az                  = var.postgres_multi_az
  backup_retention_days     = var.postgres_backup_retention_days
  deletion_protection       = var.postgres_deletion_protection
  tags                      = local.tags
}

module "redis" {
  source                    = "../redis"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  node_type                 = var.redis_node_type
  nodes                     = var.redis_nodes
  tags                      = local.tags
}

module "secrets" {
  source               = "../secrets"
  name                 = local.name
  recovery_window_days = var.secrets_recovery_window_days
  tags                 = local.tags
}

module "qts" {
  source                   = "../qts"
  environment              = var.environment
  chart_path               = local.chart_path
  install_chart            = var.install_chart
  image_repository         = var.image_repository
  image_tag                = var.image_tag
  kafka_brokers            = module.kafka.bootstrap_brokers
  kafka_replication_factor = local.kafka_replication_factor
  database_url             = module.postgres.database_url
  database_admin_url       = module.postgres.admin_url
  redis_url                = module.redis.url
  ssi_secret_arn           = module.secrets.ssi_secret_arn
  env_secrets              = module.secrets.env
  backend_cidrs            = module.network.private_subnet_cidrs
}
