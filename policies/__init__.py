"""The cost-guardrail policy pack (`pulumi preview --policy-pack policies`) and its pure rules."""
