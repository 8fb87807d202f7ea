namespace MeshBulkheads.Testing.Prometheus;

/// <summary>
/// One admin port for <see cref="PrometheusFixture"/> to scrape, with the static labels that
/// Kubernetes service discovery adds in a cluster (<c>namespace</c>, <c>pod</c>) and our scrape
/// config's <c>service</c>: the recording rules in <c>k8s/observability/prometheus/rules.yaml</c>
/// group by them.
/// </summary>
/// <param name="Address">The admin endpoint, e.g. <c>http://127.0.0.1:40123/</c>.</param>
/// <param name="Service">gateway, payments, reporting or render.</param>
/// <param name="Pod">A pod name; defaults to <c>&lt;service&gt;-0</c>.</param>
/// <param name="Namespace">The namespace label; defaults to <c>test</c>.</param>
public sealed record PrometheusTarget(Uri Address, string Service, string? Pod = null, string Namespace = "test")
{
    /// <summary>The pod label actually used.</summary>
    public string PodLabel => Pod ?? Service + "-0";
}
