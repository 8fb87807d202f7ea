using System.Net;
using k8s.Models;

namespace MeshBulkheads.Chart.Tests.Semantics;

/// <summary>A traffic endpoint: a pod (namespace, labels, container ports, address) or an address outside the cluster.</summary>
internal sealed record Endpoint(string Name, string Namespace, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<V1ContainerPort> Ports, IPAddress Address, bool InRelease);

/// <summary>
/// Evaluates rendered NetworkPolicies as the API defines them: a connection is allowed when the
/// source's egress and the destination's ingress both allow it; a pod no policy of that direction
/// selects is unrestricted in that direction. Peers: podSelector, namespaceSelector (alone or
/// together) and ipBlock; ports by number or name, with endPort; an empty from/to or ports matches all.
/// </summary>
internal sealed class NetworkPolicyEvaluator(IReadOnlyList<V1NetworkPolicy> policies, string releaseNamespace)
{
    public bool Allows(Endpoint source, Endpoint destination, int port, string protocol) =>
        Direction(source, "Egress", p => p.Spec.Egress?.Select(r => ((IList<V1NetworkPolicyPeer>?)r.To, (IList<V1NetworkPolicyPort>?)r.Ports)), destination, port, protocol)
        && Direction(destination, "Ingress", p => p.Spec.Ingress?.Select(r => ((IList<V1NetworkPolicyPeer>?)r.FromProperty, (IList<V1NetworkPolicyPort>?)r.Ports)), source, port, protocol, portsOf: destination);

    private bool Direction(
        Endpoint subject,
        string type,
        Func<V1NetworkPolicy, IEnumerable<(IList<V1NetworkPolicyPeer>? Peers, IList<V1NetworkPolicyPort>? Ports)>?> rules,
        Endpoint other,
        int port,
        string protocol,
        Endpoint? portsOf = null)
    {
        if (!subject.InRelease)
        {
            return true; // Policies outside the release are not ours to evaluate.
        }

        var selecting = policies.Where(p => p.Metadata.NamespaceProperty is null || p.Metadata.NamespaceProperty == releaseNamespace)
            .Where(p => Matches(p.Spec.PodSelector, subject.Labels))
            .Where(p => (p.Spec.PolicyTypes ?? (p.Spec.Egress is not null ? ["Ingress", "Egress"] : ["Ingress"])).Contains(type))
            .ToList();
        if (selecting.Count == 0)
        {
            return true;
        }

        var target = type == "Ingress" ? subject : other;
        return selecting.Any(p => (rules(p) ?? []).Any(r =>
            (r.Peers is null || r.Peers.Count == 0 || r.Peers.Any(peer => PeerMatches(peer, other)))
            && (r.Ports is null || r.Ports.Count == 0 || r.Ports.Any(pp => PortMatches(pp, target, port, protocol)))));
    }

    private bool PeerMatches(V1NetworkPolicyPeer peer, Endpoint endpoint)
    {
        if (peer.IpBlock is { } block)
        {
            return InCidr(endpoint.Address, block.Cidr) && !(block.Except ?? []).Any(e => InCidr(endpoint.Address, e));
        }

        var namespaceMatches = peer.NamespaceSelector is { } ns
            ? Matches(ns, new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = endpoint.Namespace })
            : endpoint.Namespace == releaseNamespace;
        var podMatches = peer.PodSelector is not { } pods || Matches(pods, endpoint.Labels);
        return namespaceMatches && podMatches && endpoint.Namespace != "(external)";
    }

    private static bool PortMatches(V1NetworkPolicyPort rule, Endpoint destination, int port, string protocol)
    {
        if ((rule.Protocol ?? "TCP") != protocol)
        {
            return false;
        }

        if (rule.Port is null)
        {
            return true;
        }

        if (int.TryParse(rule.Port.Value, out var number))
        {
            return rule.EndPort is { } end ? port >= number && port <= end : port == number;
        }

        return destination.Ports.Any(p => p.Name == rule.Port.Value && p.ContainerPort == port);
    }

    internal static bool Matches(V1LabelSelector? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return true;
        }

        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var e in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(e.Key, out var v);
            var ok = e.OperatorProperty switch
            {
                "In" => has && (e.Values ?? []).Contains(v!),
                "NotIn" => !has || !(e.Values ?? []).Contains(v!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    internal static bool InCidr(IPAddress address, string cidr) => IPNetwork.Parse(cidr).Contains(address);
}
