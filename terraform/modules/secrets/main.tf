# AWS Secrets Manager: the SSI FastConnect credentials and the fleet's own keys.
#
# <name>/ssi holds the broker credentials as JSON with the keys the chart's ssi.existingSecret
# takes (v2: data-consumer-id, data-consumer-secret, trading-consumer-id,
# trading-consumer-secret, trading-private-key, trading-pin; v3: v3-api-key, v3-api-secret,
# v3-private-key). Terraform creates it empty ({}); an operator puts the values in
# (aws secretsmanager put-secret-value), and terraform never overwrites them.
#
# <name>/env holds the master keys that seal the SSO's signing keys and TOTP secrets and the
# config service's stored credentials, generated once.

resource "aws_secretsmanager_secret" "ssi" {
  name                    = "${var.name}/ssi"
  description             = "SSI FastConnect credentials of ${var.name} (keys as the chart's ssi.existingSecret)"
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "ssi" {
  secret_id     = aws_secretsmanager_secret.ssi.id
  secret_string = jsonencode({})

  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "random_id" "sso_master_key" {
  byte_length = 32
}

resource "random_id" "config_master_key" {
  byte_length = 32
}

resource "aws_secretsmanager_secret" "env" {
  name                    = "${var.name}/env"
  description             = "Environment variables with secrets for every QTS pod of ${var.name}"
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "env" {
  secret_id = aws_secretsmanager_secret.env.id
  secret_string = jsonencode({
    SSO__KEYS__MASTER_KEY    = random_id.sso_master_key.b64_std
    CONFIG__KEYS__MASTER_KEY = random_id.config_master_key.b64_std
  })
}
