# The modules moved under modules/platform: these keep the existing state's resources (no
# destroy and re-create). Delete them once every environment has applied with them.

moved {
  from = module.network
  to   = module.platform.module.network
}

moved {
  from = module.eks
  to   = module.platform.module.eks
}

moved {
  from = module.kafka
  to   = module.platform.module.kafka
}

moved {
  from = module.postgres
  to   = module.platform.module.postgres
}

moved {
  from = module.redis
  to   = module.platform.module.redis
}

moved {
  from = module.secrets
  to   = module.platform.module.secrets
}

moved {
  from = module.qts
  to   = module.platform.module.qts
}
