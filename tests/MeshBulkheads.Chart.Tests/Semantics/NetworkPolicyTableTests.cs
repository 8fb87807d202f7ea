using System.Net;
using System.Text.RegularExpressions;
using k8s.Models;
using MeshBulkheads.Chart.Tests.Infrastructure;
using MeshBulkheads.Chart.Tests.Rendering;
using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Chart.Tests.Semantics;

/// <summary>Each row of the NetworkPolicies table in docs/kubernetes.md, evaluated on the rendered policies of every profile.</summary>
public sealed partial class NetworkPolicyTableTests(ChartRenders renders)
{
    private static readonly IPAddress Outsider = IPAddress.Parse("203.0.113.10");

    internal sealed record Row(string From, string To, string Port, bool Allowed, string Text);

    [Theory]
    [MemberData(nameof(RenderCases.Profiles), MemberType = typeof(RenderCases))]
    public async Task Table_EveryPair_IsAllowedOrDeniedAsStated(string profile)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");
        var policies = render.Typed<V1NetworkPolicy>().ToList();
        Assert.NotEmpty(policies);
        var evaluator = new NetworkPolicyEvaluator(policies, ChartLayout.Namespace);
        var pods = ReleasePods(render);
        var rows = ReadTable();
        var failures = new List<string>();
        var evaluated = 0;

        // Act
        var nodeCidr = NodeCidr(profile);
        foreach (var row in rows)
        {
            if (row.From.StartsWith("`networkPolicy.nodeCidr`", StringComparison.Ordinal))
            {
                // Opt-in: with a node CIDR set, an address in it (the kubelet) reaches every pod's ports.
                if (nodeCidr is { Length: > 0 })
                {
                    var kubelet = new Endpoint("kubelet", "(node)", new Dictionary<string, string>(), [], FirstHost(nodeCidr), InRelease: false);
                    foreach (var pod in pods.Where(p => p.Name is not ("helm test" or "loadgen")))
                    {
                        foreach (var port in pod.Ports)
                        {
                            evaluated++;
                            if (evaluator.Allows(kubelet, pod, port.ContainerPort, port.Protocol ?? "TCP") != row.Allowed)
                            {
                                failures.Add($"node {kubelet.Address} → {pod.Name} {port.ContainerPort}: table says {(row.Allowed ? "allowed" : "denied")}  [{row.Text}]");
                            }
                        }
                    }
                }

                continue;
            }

            var sources = Endpoints(row.From, pods, isSource: true);
            var destinations = Endpoints(row.To, pods, isSource: false);
            if (sources is null || destinations is null)
            {
                continue; // A row about "anything not listed" or the opt-in node CIDR: not a pair.
            }

            foreach (var source in sources)
            {
                foreach (var destination in destinations)
                {
                    foreach (var (port, protocol) in Ports(row.Port, destination))
                    {
                        evaluated++;
                        if (evaluator.Allows(source, destination, port, protocol) != row.Allowed)
                        {
                            failures.Add($"{source.Name} → {destination.Name} {port}/{protocol}: table says {(row.Allowed ? "allowed" : "denied")}, policies {(row.Allowed ? "deny" : "allow")} it  [{row.Text}]");
                        }
                    }
                }
            }
        }

        // Assert
        Assert.True(evaluated >= 20, $"only {evaluated} pairs evaluated from {rows.Count} rows");
        render.AssertNoFailures(failures);
    }

    [Fact]
    public async Task Evaluator_PolicyRemoved_ChangesTheAnswer()
    {
        // Arrange: the evaluation must be able to fail: without the payments policy, anyone reaches payments.
        var render = await renders.DefaultAsync();
        var all = render.Typed<V1NetworkPolicy>().ToList();
        var pods = ReleasePods(render);
        var payments = pods.Single(p => p.Name == "payments");
        var outsider = OutsiderPod();

        // Act
        var withAll = new NetworkPolicyEvaluator(all, ChartLayout.Namespace).Allows(outsider, payments, 8081, "TCP");
        var withoutDefaultDeny = new NetworkPolicyEvaluator(all.Where(p => !NetworkPolicyEvaluator.Matches(p.Spec.PodSelector, payments.Labels)).ToList(), ChartLayout.Namespace).Allows(outsider, payments, 8081, "TCP");

        // Assert
        Assert.False(withAll);
        Assert.True(withoutDefaultDeny);
    }

    private static Endpoint OutsiderPod() => new("anyone", "elsewhere", new Dictionary<string, string> { ["app"] = "outsider" }, [], Outsider, InRelease: false);

    private static List<Endpoint> ReleasePods(ChartRender render)
    {
        var pods = new List<Endpoint>();
        var i = 10;
        foreach (var pod in render.PodTemplates)
        {
            var component = pod.IsHook ? "helm test" : pod.Labels.TryGetValue("app.kubernetes.io/component", out var c) ? c : pod.Owner.Name;
            pods.Add(new Endpoint(component, ChartLayout.Namespace, new Dictionary<string, string>(pod.Labels), [.. pod.Spec.Containers.SelectMany(x => x.Ports ?? [])], IPAddress.Parse($"10.244.1.{i++}"), InRelease: true));
        }

        return pods;
    }

    private static List<Endpoint>? Endpoints(string cell, List<Endpoint> pods, bool isSource)
    {
        var text = cell.Trim();
        if (text.StartsWith("anyone", StringComparison.OrdinalIgnoreCase))
        {
            return [OutsiderPod()];
        }

        if (text.StartsWith("Prometheus", StringComparison.Ordinal))
        {
            var values = PrometheusValues();
            return [new Endpoint("prometheus", values.Namespace, new Dictionary<string, string> { [values.Key] = values.Value }, [], IPAddress.Parse("10.244.9.9"), InRelease: false)];
        }

        if (text.StartsWith("cluster DNS", StringComparison.Ordinal))
        {
            var ns = Backticked().Match(text) is { Success: true } m ? m.Groups[1].Value : "kube-system";
            return [new Endpoint("kube-dns", ns, new Dictionary<string, string> { ["k8s-app"] = "kube-dns" }, [new V1ContainerPort { ContainerPort = 53, Name = "dns" }], IPAddress.Parse("10.96.0.10"), InRelease: false)];
        }

        if (text.StartsWith("anything", StringComparison.Ordinal))
        {
            // "no egress": a pod of the release, a cluster DNS pod and an address outside the cluster all stay out of reach.
            return isSource ? null : [pods.First(p => p.Name == "gateway"), OutsiderPod(), new Endpoint("kube-dns", "kube-system", new Dictionary<string, string> { ["k8s-app"] = "kube-dns" }, [], IPAddress.Parse("10.96.0.10"), false)];
        }

        if (text.StartsWith("every pod", StringComparison.Ordinal) || text.StartsWith('`'))
        {
            return null;
        }

        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var found = names.SelectMany(n => pods.Where(p => p.Name == n)).ToList();
        Assert.True(names.All(n => KnownComponents.Contains(n)), $"docs/kubernetes.md names an endpoint the test does not know: '{text}'");
        return found.Count == 0 ? null : found; // a component this profile does not deploy
    }

    private static readonly HashSet<string> KnownComponents = ["gateway", "payments", "reporting", "render", "redis", "postgresql", "jaeger", "helm test", "loadgen"];

    private static IEnumerable<(int Port, string Protocol)> Ports(string cell, Endpoint destination)
    {
        if (cell.Trim() == "any")
        {
            // Every port the destination listens on, plus 443 (outside) and 53 (DNS), over TCP and UDP.
            var ports = destination.Ports.Select(p => p.ContainerPort).Append(443).Append(53).Distinct();
            foreach (var p in ports)
            {
                yield return (p, "TCP");
                yield return (p, "UDP");
            }

            yield break;
        }

        var protocols = cell.Contains("UDP/TCP", StringComparison.Ordinal) || cell.Contains("TCP/UDP", StringComparison.Ordinal) ? new[] { "UDP", "TCP" } : cell.Contains("UDP", StringComparison.Ordinal) ? ["UDP"] : ["TCP"];
        foreach (Match m in Number().Matches(cell))
        {
            foreach (var protocol in protocols)
            {
                yield return (int.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture), protocol);
            }
        }
    }

    internal static List<Row> ReadTable()
    {
        var lines = File.ReadAllLines(Path.Combine(ChartLayout.Root, "docs", "kubernetes.md"));
        var start = Array.FindIndex(lines, l => l.TrimStart().StartsWith("## NetworkPolicies", StringComparison.Ordinal));
        Assert.True(start >= 0, "docs/kubernetes.md has no '## NetworkPolicies' section");
        var header = Array.FindIndex(lines, start, l => l.Replace(" ", string.Empty, StringComparison.Ordinal).StartsWith("|from|to|port|allowed|", StringComparison.Ordinal));
        Assert.True(header >= 0, "the NetworkPolicies section has no | from | to | port | allowed | table");
        var rows = new List<Row>();
        for (var i = header + 2; i < lines.Length && lines[i].TrimStart().StartsWith('|'); i++)
        {
            var cells = lines[i].Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            var allowed = cells[3].StartsWith("yes", StringComparison.OrdinalIgnoreCase);
            Assert.True(allowed || cells[3].StartsWith("no", StringComparison.OrdinalIgnoreCase), $"'allowed' must start with yes or no: {lines[i]}");
            rows.Add(new Row(cells[0], cells[1], cells[2], allowed, lines[i]));
        }

        return rows;
    }

    private static string? NodeCidr(string profile)
    {
        string? Read(string? file)
        {
            if (file is null)
            {
                return null;
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(file)));
            return stream.Documents.Count > 0
                && stream.Documents[0].RootNode is YamlMappingNode root
                && root.Children.TryGetValue(new YamlScalarNode("networkPolicy"), out var np) && np is YamlMappingNode policy
                && policy.Children.TryGetValue(new YamlScalarNode("nodeCidr"), out var cidr)
                ? ((YamlScalarNode)cidr).Value
                : null;
        }

        return Read(ChartLayout.ValuesFile(profile)) ?? Read(Path.Combine(ChartLayout.ChartDirectory, "values.yaml"));
    }

    private static IPAddress FirstHost(string cidr)
    {
        var network = IPNetwork.Parse(cidr);
        var bytes = network.BaseAddress.GetAddressBytes();
        bytes[^1]++;
        return new IPAddress(bytes);
    }

    private static (string Namespace, string Key, string Value) PrometheusValues()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(ChartLayout.ChartDirectory, "values.yaml"))));
        var prometheus = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["networkPolicy"])["prometheus"];
        string S(string key) => ((YamlScalarNode)prometheus[key]).Value!;
        return (S("namespace"), S("podLabelKey"), S("podLabelValue"));
    }

    [GeneratedRegex(@"\b\d{2,5}\b")]
    private static partial Regex Number();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
