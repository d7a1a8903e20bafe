# tflint configuration for infra/terraform, run by localstack/infra-check.sh.
# Only the bundled Terraform language ruleset: the AWS ruleset (tflint-ruleset-aws) cannot be
# fetched on the development machine (see README.md, "Checks").
config {
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
