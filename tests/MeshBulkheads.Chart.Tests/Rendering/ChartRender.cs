using k8s.Models;
using MeshBulkheads.Testing.Processes;
using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Chart.Tests.Rendering;

/// <summary>A pod template of a rendered workload (Deployment, StatefulSet, DaemonSet, Job) or a bare Pod (helm test hooks).</summary>
internal sealed record PodTemplate(RenderedObject Owner, V1ObjectMeta Metadata, V1PodSpec Spec, int Replicas)
{
    /// <summary>The pod runs only during <c>helm test</c> or another hook, not as part of the running release.</summary>
    public bool IsHook => Owner.Node.Children.TryGetValue(new YamlScalarNode("metadata"), out var m)
        && m is YamlMappingNode metadata
        && metadata.Children.TryGetValue(new YamlScalarNode("annotations"), out var a)
        && a is YamlMappingNode annotations
        && annotations.Children.ContainsKey(new YamlScalarNode("helm.sh/hook"));

    public IEnumerable<V1Container> AllContainers => (Spec.InitContainers ?? []).Concat(Spec.Containers ?? []);

    public IDictionary<string, string> Labels => Metadata.Labels ?? new Dictionary<string, string>();

    public override string ToString() => Owner.ToString();
}

/// <summary>One <c>helm template</c> of the chart: a profile (values file) at one Kubernetes version.</summary>
internal sealed class ChartRender
{
    private readonly Lazy<IReadOnlyList<RenderedObject>> _objects;

    public ChartRender(string profile, string kubeVersion, ToolResult result)
    {
        Profile = profile;
        KubeVersion = kubeVersion;
        Result = result;
        _objects = new(() => Parse(result.StandardOutput));
    }

    public string Profile { get; }

    public string KubeVersion { get; }

    public ToolResult Result { get; }

    public string Manifest => Result.StandardOutput;

    /// <summary>Every rendered object; asserts first that the render succeeded.</summary>
    public IReadOnlyList<RenderedObject> Objects
    {
        get
        {
            Assert.True(Result.Succeeded, $"{this}: {Result}");
            return _objects.Value;
        }
    }

    /// <summary>Asserts that a check over this render found nothing; the message names the render and lists every failure.</summary>
    public void AssertNoFailures(IReadOnlyCollection<string> failures) =>
        Assert.True(failures.Count == 0, $"{this}:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");

    public IEnumerable<RenderedObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public IEnumerable<T> Typed<T>()
        where T : class => Objects.Select(o => o.Typed).OfType<T>();

    /// <summary>Every pod template with the replicas it runs at (an autoscaler's minReplicas when one targets it).</summary>
    public IEnumerable<PodTemplate> PodTemplates
    {
        get
        {
            foreach (var o in Objects)
            {
                switch (o.Typed)
                {
                    case V1Deployment d:
                        yield return new(o, d.Spec.Template.Metadata ?? new(), d.Spec.Template.Spec, d.Spec.Replicas ?? MinReplicasOf("Deployment", d.Metadata.Name) ?? 1);
                        break;
                    case V1StatefulSet s:
                        yield return new(o, s.Spec.Template.Metadata ?? new(), s.Spec.Template.Spec, s.Spec.Replicas ?? MinReplicasOf("StatefulSet", s.Metadata.Name) ?? 1);
                        break;
                    case V1DaemonSet ds:
                        yield return new(o, ds.Spec.Template.Metadata ?? new(), ds.Spec.Template.Spec, 1);
                        break;
                    case V1Job j:
                        yield return new(o, j.Spec.Template.Metadata ?? new(), j.Spec.Template.Spec, 1);
                        break;
                    case V1Pod p:
                        yield return new(o, p.Metadata ?? new(), p.Spec, 1);
                        break;
                }
            }
        }
    }

    /// <summary>The autoscalers (HPA or KEDA ScaledObject) of the render: target kind, name, and minReplicas.</summary>
    public IEnumerable<(RenderedObject Scaler, string TargetKind, string TargetName, int? MinReplicas)> Autoscalers
    {
        get
        {
            foreach (var o in Objects)
            {
                if (o.Typed is V2HorizontalPodAutoscaler hpa)
                {
                    yield return (o, hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name, hpa.Spec.MinReplicas);
                }
            }

            foreach (var scaled in OfKind("ScaledObject").Where(o => o.ApiVersion.StartsWith("keda.sh/", StringComparison.Ordinal)))
            {
                var spec = (YamlMappingNode)scaled.Node["spec"];
                var target = (YamlMappingNode)spec["scaleTargetRef"];
                var kind = target.Children.TryGetValue(new YamlScalarNode("kind"), out var k) ? ((YamlScalarNode)k).Value! : "Deployment";
                int? min = spec.Children.TryGetValue(new YamlScalarNode("minReplicaCount"), out var m) ? int.Parse(((YamlScalarNode)m).Value!, System.Globalization.CultureInfo.InvariantCulture) : null;
                yield return (scaled, kind, ((YamlScalarNode)target["name"]).Value!, min);
            }
        }
    }

    public override string ToString() => $"profile '{Profile}' at Kubernetes {KubeVersion}";

    private int? MinReplicasOf(string kind, string name) =>
        Autoscalers.Where(a => a.TargetKind == kind && a.TargetName == name).Select(a => a.MinReplicas ?? 1).Cast<int?>().FirstOrDefault();

    private static List<RenderedObject> Parse(string manifest)
    {
        var objects = new List<RenderedObject>();
        foreach (var document in SplitDocuments(manifest))
        {
            var source = document.Split('\n').FirstOrDefault(l => l.StartsWith("# Source: ", StringComparison.Ordinal))?["# Source: ".Length..].Trim() ?? "?";
            var stream = new YamlStream();
            stream.Load(new StringReader(document));
            foreach (var yaml in stream.Documents)
            {
                if (yaml.RootNode is YamlMappingNode node && node.Children.Count > 0)
                {
                    objects.Add(new RenderedObject(source, document, node));
                }
            }
        }

        return objects;
    }

    /// <summary>helm separates objects with a line holding only <c>---</c>.</summary>
    public static IEnumerable<string> SplitDocuments(string manifest)
    {
        var current = new System.Text.StringBuilder();
        foreach (var line in manifest.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            if (line.TrimEnd() == "---")
            {
                if (current.ToString().Trim().Length > 0)
                {
                    yield return current.ToString();
                }

                current.Clear();
                continue;
            }

            current.Append(line).Append('\n');
        }

        if (current.ToString().Trim().Length > 0)
        {
            yield return current.ToString();
        }
    }
}
