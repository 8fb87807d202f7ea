using k8s;
using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Chart.Tests.Rendering;

/// <summary>One object of a rendered manifest: its YAML text, its tree, and its KubernetesClient model.</summary>
internal sealed class RenderedObject
{
    private readonly Lazy<object?> _typed;

    public RenderedObject(string source, string text, YamlMappingNode node)
    {
        Source = source;
        Text = text;
        Node = node;
        ApiVersion = Scalar(node, "apiVersion") ?? string.Empty;
        Kind = Scalar(node, "kind") ?? string.Empty;
        Name = node.Children.TryGetValue(new YamlScalarNode("metadata"), out var metadata) && metadata is YamlMappingNode m
            ? Scalar(m, "name") ?? string.Empty
            : string.Empty;
        _typed = new(() => IsBuiltIn ? KubernetesYaml.LoadAllFromString(Text).SingleOrDefault() : null);
    }

    /// <summary>The template the object came from (helm's <c># Source:</c> line).</summary>
    public string Source { get; }

    public string Text { get; }

    public YamlMappingNode Node { get; }

    public string ApiVersion { get; }

    public string Kind { get; }

    public string Name { get; }

    /// <summary>A Kubernetes built-in type (core or a <c>*.k8s.io</c> group), which KubernetesClient models; CRDs are not.</summary>
    public bool IsBuiltIn => !ApiVersion.Contains('/', StringComparison.Ordinal)
        || !ApiVersion[..ApiVersion.IndexOf('/', StringComparison.Ordinal)].Contains('.', StringComparison.Ordinal)
        || ApiVersion[..ApiVersion.IndexOf('/', StringComparison.Ordinal)].EndsWith(".k8s.io", StringComparison.Ordinal);

    /// <summary>The KubernetesClient model (V1Deployment, …) of a built-in object, loaded leniently; null for CRDs.</summary>
    public object? Typed => _typed.Value;

    public T As<T>()
        where T : class => Typed as T ?? throw new InvalidOperationException($"{this} is not a {typeof(T).Name}.");

    public override string ToString() => $"{Kind}/{Name} ({Source})";

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (value as YamlScalarNode)?.Value : null;
}
