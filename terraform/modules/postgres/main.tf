# Amazon RDS for PostgreSQL: one instance, one database per service (qts_<service>, created by
# the qts module's job), user qts with a generated password.
#
# rds.force_ssl is on: the services connect with `sslmode=require` (sqlx over rustls; the
# certificate is not checked against the RDS CA, which the webpki roots do not hold), only from
# the cluster's security group; storage is encrypted.

resource "random_password" "master" {
  length  = 32
  special = false
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-postgres"
  description = "RDS PostgreSQL of ${var.name}: from the EKS cluster only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-postgres" })
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  description                  = "PostgreSQL from the cluster"
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.name}-qts"
  family = "postgres${split(".", var.engine_version)[0]}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  tags = var.tags
}

resource "aws_db_instance" "this" {
  identifier                   = var.name
  engine                       = "postgres"
  engine_version               = var.engine_version
  instance_class               = var.instance_class
  allocated_storage            = var.allocated_storage_gib
  max_allocated_storage        = var.max_allocated_storage_gib
  storage_type                 = "gp3"
  storage_encrypted            = true
  db_name                      = "qts"
  username                     = "qts"
  password                     = random_password.master.result
  db_subnet_group_name         = aws_db_subnet_group.this.name
  vpc_security_group_ids       = [aws_security_group.this.id]
  parameter_group_name         = aws_db_parameter_group.this.name
  multi_az                     = var.multi_az
  publicly_accessible          = false
  backup_retention_period      = var.backup_retention_days
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = !var.deletion_protection
  final_snapshot_identifier    = var.deletion_protection ? "${var.name}-final" : null
  performance_insights_enabled = true
  auto_minor_version_upgrade   = true
  apply_immediately            = false
  tags                         = var.tags
}
