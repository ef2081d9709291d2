"""Which inputs of a resource force Pulumi to replace it (the provider's ForceNew), for the resources whose
replacement would hurt: a vendored table, read by the graph tests. Pure data, no Pulumi.

pulumi-aws is bridged from the Terraform AWS provider. Its schema is not on disk here: the Python package holds
only ``pulumi_aws/pulumi-plugin.json`` (name and version, 7.51.1), and the provider plugin that would print
``schema.json`` is not installed; a bridged schema does not mark ForceNew inputs anyway.
The source of truth is the Terraform provider's resource schemas, cited per resource below
(hashicorp/terraform-provider-aws, ``internal/service/...``; read 2026-11 via code search). Keys are the
camelCase wire names the mock runtime records.
"""
from __future__ import annotations

FORCE_NEW: dict[str, frozenset[str]] = {
    # internal/service/ecs/service.go: name, cluster, launch_type, iam_role, scheduling_strategy and
    # deployment_controller.type are ForceNew. capacity_provider_strategy is not (v6: customizeDiff demands
    # force_new_deployment = true when it changes, "force_new_deployment should be true when
    # capacity_provider_strategy is being updated"; older v5: ForceNew unless force_new_deployment and both
    # the old and the new strategy are non-empty).
    "aws:ecs/service:Service": frozenset({
        "name", "cluster", "launchType", "iamRole", "schedulingStrategy", "deploymentController"}),
    # internal/service/ecs/cluster_capacity_providers.go: cluster_name is ForceNew.
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": frozenset({"clusterName"}),
    # internal/service/ecs/cluster.go: name is ForceNew.
    "aws:ecs/cluster:Cluster": frozenset({"name"}),
    # internal/service/dynamodb/table.go: name, hash_key, range_key are ForceNew (attributes are not, but a
    # changed key attribute implies a changed hash_key or range_key type, which DynamoDB cannot update).
    "aws:dynamodb/table:Table": frozenset({"name", "hashKey", "rangeKey"}),
    # internal/service/servicediscovery/service.go: name, namespace_id, dns_config.namespace_id are ForceNew.
    "aws:servicediscovery/service:Service": frozenset({"name", "namespaceId"}),
}

# Resources whose every input but tags forces a new one (TaskDefinition: a revision is immutable).
ALL_INPUTS_FORCE_NEW_EXCEPT = {"aws:ecs/taskDefinition:TaskDefinition": frozenset({"tags", "tagsAll", "skipDestroy"})}
