# Staging: production's shape on smaller machines, one NAT gateway, no standby database, and
# deletion allowed. The deploy workflow installs each commit of main here.

locals {
  name        = "qts-staging"
  environment = "staging"
  tags = {
    Project     = "qts"
    Environment = local.environment
    ManagedBy   = "terraform"
  }
  chart_path = "${path.root}/../../../deploy/k8s/qts"
}

module "network" {
  source             = "../../modules/network"
  name               = local.name
  cidr               = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = true
  tags               = local.tags
}

module "eks" {
  source              = "../../modules/eks"
  name                = local.name
  subnet_ids          = module.network.private_subnet_ids
  public_access_cidrs = var.api_access_cidrs
  admin_role_arns     = var.admin_role_arns
  node_instance_types = ["m6i.large"]
  node_count          = { min = 2, desired = 3, max = 4 }
  tags                = local.tags
}

module "kafka" {
  source                    = "../../modules/kafka"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  broker_instance_type      = "kafka.t3.small"
  broker_count              = length(var.availability_zones)
  volume_gib                = 100
  replication_factor        = 3
  tags                      = local.tags
}

module "postgres" {
  source                    = "../../modules/postgres"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class            = "db.t4g.medium"
  allocated_storage_gib     = 50
  max_allocated_storage_gib = 200
  multi_az                  = false
  backup_retention_days     = 3
  deletion_protection       = false
  tags                      = local.tags
}

module "redis" {
  source                    = "../../modules/redis"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  node_type                 = "cache.t4g.small"
  nodes                     = 1
  tags                      = local.tags
}

module "secrets" {
  source               = "../../modules/secrets"
  name                 = local.name
  recovery_window_days = 7
  tags                 = local.tags
}

module "qts" {
  source                   = "../../modules/qts"
  environment              = local.environment
  chart_path               = local.chart_path
  install_chart            = var.install_chart
  image_repository         = var.image_repository
  image_tag                = var.image_tag
  kafka_brokers            = module.kafka.bootstrap_brokers
  kafka_replication_factor = 3
  database_url             = module.postgres.database_url
  database_admin_url       = module.postgres.admin_url
  redis_url                = module.redis.url
  ssi_secret_arn           = module.secrets.ssi_secret_arn
  env_secrets              = module.secrets.env
  backend_cidrs            = module.network.private_subnet_cidrs
}
