namespace MeshBulkheads.Gateway.Policy;

/// <summary>
/// One validated configuration of the gateway's policy. <see cref="Generation"/> starts at 1 and
/// grows with every accepted reload; per-tenant state is keyed by it, so a change reaches even a
/// tenant that never goes idle.
/// </summary>
public sealed record GatewayPolicy(long Generation, GatewayPolicyOptions Options);
