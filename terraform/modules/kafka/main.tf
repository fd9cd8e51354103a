# Amazon MSK (Apache Kafka) for the fleet's bus.
#
# The services' librdkafka is built without TLS (the workspace's rdkafka has no `ssl` feature),
# so clients connect in plaintext on 9092 inside the VPC, admitted only from the cluster's
# security group; data at rest is encrypted. Turning on TLS in transit means building rdkafka
# with `ssl` first (docs/ops/delivery.md).

resource "aws_security_group" "this" {
  name        = "${var.name}-kafka"
  description = "MSK brokers of ${var.name}: Kafka from the EKS cluster only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-kafka" })
}

resource "aws_vpc_security_group_ingress_rule" "kafka" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9092
  to_port                      = 9092
  description                  = "Kafka plaintext from the cluster"
}

resource "aws_msk_configuration" "this" {
  name           = "${var.name}-qts"
  kafka_versions = [var.kafka_version]
  # The services create their topics (with partitions and retention) through the admin API.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=${var.replication_factor}
    min.insync.replicas=${max(1, var.replication_factor - 1)}
    num.partitions=8
    log.retention.hours=168
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.volume_gib
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  encryption_info {
    encryption_in_transit {
      client_broker = "TLS_PLAINTEXT"
      in_cluster    = true
    }
  }

  client_authentication {
    unauthenticated = true
  }

  tags = var.tags
}
