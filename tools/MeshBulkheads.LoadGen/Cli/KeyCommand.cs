using System.Security.Cryptography;
using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.LoadGen.Cli;

/// <summary>
/// <c>meshload key-hash</c> and <c>meshload key-new</c>: the stored form (<c>sha256:&lt;hex&gt;</c>, <see cref="ApiKeyHash"/>)
/// of a tenant's API key for the gateway's <c>Gateway:ApiKeysFile</c>. The key is read from <c>MESH_API_KEY</c> or the
/// first line of standard input, never from the command line, where other users could read it (like <c>meshload token</c>).
/// </summary>
internal static class KeyCommand
{
    /// <summary>The environment variable <c>key-hash</c> reads the key from (standard input when unset).</summary>
    public const string KeyVariable = "MESH_API_KEY";

    /// <summary>The length of a key <c>key-new</c> generates: the Production minimum, as the chart generates them.</summary>
    public const int NewKeyLength = ApiKeyHash.MinimumProductionLength;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public const string Usage = """
        meshload key-hash            prints the stored hash (sha256:<hex>) of the key in MESH_API_KEY, else of stdin's first line
        meshload key-new             generates a key (32 random alphanumerics) and prints "key: <key>" and "hash: sha256:<hex>"
          Put the hash in the gateway's Gateway:ApiKeysFile ({"tenants": {"acme": {"tier": "gold", "keys": ["sha256:…"]}}})
          and give the key to the tenant. Keys shorter than 32 characters are refused (a Production gateway refuses them).
        """;

    public static int Hash(IReadOnlyList<string> args, MeshLoadIo io)
    {
        if (Help(args, io) is { } exit)
        {
            return exit;
        }

        var key = io.Environment(KeyVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : io.In?.ReadLine();
        key = key?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            throw new BadInputException($"meshload key-hash reads the key from {KeyVariable} or the first line of standard input; both are empty");
        }

        // Never echo the key: the messages name only its length.
        if (key.Length < ApiKeyHash.MinimumProductionLength)
        {
            throw new BadInputException($"the key has {key.Length} characters; a Production gateway needs at least {ApiKeyHash.MinimumProductionLength} (meshload key-new makes one)");
        }

        if (key.Length > ApiKeyHash.MaxKeyLength)
        {
            throw new BadInputException($"the key has {key.Length} characters; the gateway refuses keys longer than {ApiKeyHash.MaxKeyLength} unhashed");
        }

        io.Out.WriteLine(ApiKeyHash.Format(key));
        return ExitCodes.Pass;
    }

    public static int New(IReadOnlyList<string> args, MeshLoadIo io)
    {
        if (Help(args, io) is { } exit)
        {
            return exit;
        }

        var key = RandomNumberGenerator.GetString(Alphabet, NewKeyLength);
        io.Out.WriteLine("key: " + key);
        io.Out.WriteLine("hash: " + ApiKeyHash.Format(key));
        return ExitCodes.Pass;
    }

    private static int? Help(IReadOnlyList<string> args, MeshLoadIo io)
    {
        if (args.Count == 0)
        {
            return null;
        }

        if (args[0] is "-h" or "--help")
        {
            io.Out.WriteLine(Usage);
            return ExitCodes.Pass;
        }

        throw new BadInputException($"'{args[0]}': these commands take no arguments; the key comes from {KeyVariable} or standard input, never the command line ({Usage.Trim()})");
    }
}
