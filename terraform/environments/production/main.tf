# Production: a NAT gateway and a standby database per zone, larger machines, deletion
# protection. The deploy workflow installs each release tag here after approval.

locals {
  name        = "qts-production"
  environment = "production"
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
  single_nat_gateway = false
  tags               = local.tags
}

module "eks" {
  source              = "../../modules/eks"
  name                = local.name
  subnet_ids          = module.network.private_subnet_ids
  public_access_cidrs = var.api_access_cidrs
  admin_role_arns     = var.admin_role_arns
  node_instance_types = ["m6i.xlarge"]
  node_count          = { min = 3, desired = 4, max = 9 }
  tags                = local.tags
}

module "kafka" {
  source                    = "../../modules/kafka"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  broker_instance_type      = "kafka.m7g.large"
  broker_count              = length(var.availability_zones)
  volume_gib                = 500
  replication_factor        = 3
  tags                      = local.tags
}

module "postgres" {
  source                    = "../../modules/postgres"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class            = "db.m7g.large"
  allocated_storage_gib     = 200
  max_allocated_storage_gib = 1000
  multi_az                  = true
  backup_retention_days     = 14
  deletion_protection       = true
  tags                      = local.tags
}

module "redis" {
  source                    = "../../modules/redis"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  node_type                 = "cache.m7g.large"
  nodes                     = 2
  tags                      = local.tags
}

module "secrets" {
  source               = "../../modules/secrets"
  name                 = local.name
  recovery_window_days = 30
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
