using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.LoadGen.Streams;

namespace MeshBulkheads.LoadGen.Cli;

/// <summary>
/// <c>meshload token</c>: mints the identity token a service demands of a direct call (what the gateway would send),
/// for the diagnosis playbook's grpcurl and h2load calls and for <c>make bench</c>'s direct baseline. The key is read from
/// <c>MESH_IDENTITY_KEY_&lt;SERVICE&gt;</c> (<c>make run</c> writes them to artifacts/run/identity.env), never from the
/// command line, where other users could read it.
/// </summary>
internal static class TokenCommand
{
    public const string Usage = """
        meshload token --method GetBalance [--tenant acme] [--criticality critical|sheddable] [--ttl 10m] [--key-id dev]
          Prints an x-mesh-identity token for a direct call to the method's service, signed with that service's key
          from MESH_IDENTITY_KEY_PAYMENTS / _REPORTING / _RENDER (`source artifacts/run/identity.env` after `make run`).
          BuildReport also needs a delegation for payments: --delegation prints that one (x-mesh-delegation).
        """;

    /// <summary>The environment variable holding a service's key.</summary>
    public static string KeyVariable(string audience) => "MESH_IDENTITY_KEY_" + audience.ToUpperInvariant();

    public static int Run(IReadOnlyList<string> args, MeshLoadIo io)
    {
        string? method = null;
        var tenant = "acme";
        var criticality = "critical";
        var ttl = TimeSpan.FromMinutes(10);
        var keyId = io.Environment("MESH_IDENTITY_KEY_ID") is { Length: > 0 } configured ? configured : "dev";
        var delegation = false;
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new BadInputException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--method":
                    method = Value();
                    break;
                case "--tenant":
                    tenant = Value();
                    break;
                case "--criticality":
                    criticality = Value();
                    if (criticality is not ("critical" or "sheddable"))
                    {
                        throw new BadInputException("--criticality is critical or sheddable");
                    }

                    break;
                case "--ttl":
                    ttl = DurationText.Parse(Value(), "--ttl");
                    break;
                case "--key-id":
                    keyId = Value();
                    break;
                case "--delegation":
                    delegation = true;
                    break;
                case "-h" or "--help":
                    io.Out.WriteLine(Usage);
                    return ExitCodes.Pass;
                default:
                    throw new BadInputException($"unknown token option '{args[i]}' ({Usage.Trim()})");
            }
        }

        var parsed = MeshMethods.Parse(method ?? throw new BadInputException("meshload token needs --method (GetBalance, Charge, ListPayments, BuildReport, Render)"));
        if (delegation && parsed != MeshMethod.BuildReport)
        {
            throw new BadInputException("--delegation is only for BuildReport (reporting's GetBalance calls to payments)");
        }

        var (audience, path) = delegation ? ("payments", MeshMethods.Path(MeshMethod.GetBalance)) : (AudienceOf(parsed), MeshMethods.Path(parsed));
        if (ttl <= TimeSpan.Zero || ttl > TimeSpan.FromHours(24))
        {
            throw new BadInputException("--ttl must be between 1ms and 24h: a token is replayable on its method until it expires");
        }

        if (!MeshIdentityToken.IsValidKeyId(keyId))
        {
            throw new BadInputException($"--key-id '{keyId}' must be 1-32 characters of a-z, 0-9 and '-'");
        }

        var variable = KeyVariable(audience);
        var key = MeshIdentityToken.DecodeKey(io.Environment(variable))
            ?? throw new BadInputException($"{variable} is not set to the base64 of at least {MeshIdentityToken.MinKeyBytes} bytes (after `make run`: source artifacts/run/identity.env)");
        var claims = new MeshIdentityClaims(
            tenant, audience, path, io.Time.GetUtcNow() + ttl, MeshIdentityToken.NewTokenId(), criticality, delegation ? "reporting" : null);
        try
        {
            io.Out.WriteLine(MeshIdentityToken.Mint(claims, keyId, key));
        }
        catch (ArgumentException ex)
        {
            throw new BadInputException(ex.Message);
        }

        return ExitCodes.Pass;
    }

    /// <summary>The service a method belongs to (its token's audience).</summary>
    public static string AudienceOf(MeshMethod method) => method switch
    {
        MeshMethod.BuildReport => "reporting",
        MeshMethod.Render => "render",
        _ => "payments",
    };
}
