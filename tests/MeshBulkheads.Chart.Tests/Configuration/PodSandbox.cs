using System.Text;
using System.Text.RegularExpressions;
using k8s.Models;
using MeshBulkheads.Chart.Tests.Rendering;

namespace MeshBulkheads.Chart.Tests.Configuration;

/// <summary>
/// One rendered container's view of the world, laid out in a temp directory: its ConfigMap and Secret
/// volumes written as files under <c>&lt;root&gt;&lt;mountPath&gt;</c>, its emptyDirs as empty folders,
/// and its environment resolved as the kubelet would (<c>valueFrom</c> from the rendered objects,
/// <c>$(VAR)</c> expanded), with every path under a mount rewritten to the temp copy.
/// </summary>
internal sealed partial class PodSandbox : IDisposable
{
    private readonly List<string> _mountPaths = [];

    private PodSandbox(string root, V1Container container)
    {
        Root = root;
        Container = container;
    }

    public string Root { get; }

    public V1Container Container { get; }

    /// <summary>The container's environment (image environment first, then the container's env), paths rewritten.</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The writable mounts (emptyDir, PVC) as temp folders: mount path → folder.</summary>
    public Dictionary<string, string> WritableMounts { get; } = new(StringComparer.Ordinal);

    /// <summary>Lays out <paramref name="containerName"/>'s view; <paramref name="parentDirectory"/> (default artifacts/chart-tests) must be traversable by whoever reads it.</summary>
    public static PodSandbox Create(ChartRender render, PodTemplate pod, string containerName, IReadOnlyDictionary<string, string>? imageEnvironment = null, string? parentDirectory = null)
    {
        var container = pod.Spec.Containers.Single(c => c.Name == containerName);
        var root = Path.Combine(parentDirectory ?? Infrastructure.ChartLayout.ScratchDirectory, "pod-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var sandbox = new PodSandbox(root, container);
        var volumes = (pod.Spec.Volumes ?? []).ToDictionary(v => v.Name);
        foreach (var mount in container.VolumeMounts ?? [])
        {
            sandbox._mountPaths.Add(mount.MountPath);
            var target = sandbox.Root + mount.MountPath;
            var volume = volumes[mount.Name];
            if (volume.EmptyDir is not null || volume.PersistentVolumeClaim is not null || volume.Ephemeral is not null)
            {
                Directory.CreateDirectory(target);
                sandbox.WritableMounts[mount.MountPath] = target;
                continue;
            }

            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            if (volume.ConfigMap is { } cm)
            {
                AddFiles(files, ConfigMapData(render, cm.Name), cm.Items);
            }
            else if (volume.Secret is { } secret)
            {
                AddFiles(files, SecretData(render, secret.SecretName), secret.Items);
            }
            else if (volume.Projected is { } projected)
            {
                foreach (var source in projected.Sources ?? [])
                {
                    if (source.ConfigMap is { } pcm)
                    {
                        AddFiles(files, ConfigMapData(render, pcm.Name), pcm.Items);
                    }
                    else if (source.Secret is { } ps)
                    {
                        AddFiles(files, SecretData(render, ps.Name), ps.Items);
                    }
                }
            }

            foreach (var (path, content) in files)
            {
                if (mount.SubPath is { Length: > 0 } subPath)
                {
                    if (path == subPath)
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        File.WriteAllBytes(target, content);
                    }

                    continue;
                }

                var file = Path.Combine(target, path);
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllBytes(file, content);
            }
        }

        // Configuration files name other mounted files (an API key file, a data folder): point them at the copies.
        foreach (var file in Directory.GetFiles(sandbox.Root, "*.json", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            // One pass over the JSON strings, so a path is moved once even when mounts nest (/tmp and the sandbox).
            var rewritten = JsonPathString().Replace(text, m => "\"" + sandbox.MapPath(m.Groups["path"].Value) + "\"");
            if (rewritten != text)
            {
                File.WriteAllText(file, rewritten);
            }
        }

        foreach (var (name, value) in imageEnvironment ?? new Dictionary<string, string>())
        {
            sandbox.Environment[name] = sandbox.MapPath(value);
        }

        foreach (var env in container.Env ?? [])
        {
            var value = env.Value ?? ResolveValueFrom(render, env.ValueFrom) ?? string.Empty;
            sandbox.Environment[env.Name] = Expand(sandbox.MapPath(value), sandbox.Environment);
        }

        return sandbox;
    }

    /// <summary>A path under one of the container's mounts, moved into the sandbox; anything else unchanged.</summary>
    public string MapPath(string value)
    {
        foreach (var mount in _mountPaths.OrderByDescending(p => p.Length))
        {
            if (value == mount || value.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal))
            {
                return Root + value;
            }
        }

        return value;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file; the temp folder is cleaned by the OS.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void AddFiles(Dictionary<string, byte[]> files, IReadOnlyDictionary<string, byte[]> data, IList<V1KeyToPath>? items)
    {
        if (items is { Count: > 0 })
        {
            foreach (var item in items)
            {
                files[item.Path] = data[item.Key];
            }

            return;
        }

        foreach (var (key, value) in data)
        {
            files[key] = value;
        }
    }

    private static Dictionary<string, byte[]> ConfigMapData(ChartRender render, string name)
    {
        var cm = render.Typed<V1ConfigMap>().SingleOrDefault(c => c.Metadata.Name == name)
            ?? throw new InvalidOperationException($"{render}: ConfigMap {name} is mounted but not rendered.");
        return (cm.Data ?? new Dictionary<string, string>()).ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value));
    }

    private static Dictionary<string, byte[]> SecretData(ChartRender render, string name)
    {
        var secret = render.Typed<V1Secret>().SingleOrDefault(s => s.Metadata.Name == name);
        if (secret is null)
        {
            // An existing Secret the user provides (externalPostgresql.existingSecret): an empty stand-in.
            return [];
        }

        var data = (secret.Data ?? new Dictionary<string, byte[]>()).ToDictionary(d => d.Key, d => d.Value);
        foreach (var (key, value) in secret.StringData ?? new Dictionary<string, string>())
        {
            data[key] = Encoding.UTF8.GetBytes(value);
        }

        return data;
    }

    private static string? ResolveValueFrom(ChartRender render, V1EnvVarSource? from)
    {
        if (from?.SecretKeyRef is { } s)
        {
            return SecretData(render, s.Name).TryGetValue(s.Key, out var bytes) ? Encoding.UTF8.GetString(bytes) : $"external-secret-{s.Name}-{s.Key}";
        }

        if (from?.ConfigMapKeyRef is { } c)
        {
            return ConfigMapData(render, c.Name).TryGetValue(c.Key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
        }

        // fieldRef / resourceFieldRef: what a pod would see, near enough for configuration binding.
        return from?.FieldRef?.FieldPath switch
        {
            "status.podIP" or "status.hostIP" => "127.0.0.1",
            { } path => "pod-" + path.Replace('.', '-'),
            null => from?.ResourceFieldRef is not null ? "1" : null,
        };
    }

    // Kubernetes expands $(NAME) to an earlier variable of the same container; $$ escapes.
    private static string Expand(string value, Dictionary<string, string> environment) =>
        Reference().Replace(value, m => m.Value.StartsWith("$$", StringComparison.Ordinal)
            ? m.Value[1..]
            : environment.TryGetValue(m.Groups["name"].Value, out var v) ? v : m.Value);

    [GeneratedRegex("\"(?<path>/[^\"\\\\]*)\"")]
    private static partial Regex JsonPathString();

    [GeneratedRegex(@"\$\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\((?<name>[A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex Reference();
}
