using MeshBulkheads.Contracts.Tls;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>The CA file, when set, exists and holds at least one PEM certificate (a bad path stops the start).</summary>
internal sealed class BackendTlsOptionsValidator : IValidateOptions<BackendTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, BackendTlsOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.BackendCaFile))
        {
            return ValidateOptionsResult.Success;
        }

        if (!File.Exists(options.BackendCaFile))
        {
            return ValidateOptionsResult.Fail($"{BackendTlsOptions.SectionName}:BackendCaFile '{options.BackendCaFile}' does not exist (the PEM certificate of the CA that issued the backends' certificates, e.g. a mounted Secret's ca.crt).");
        }

        try
        {
            foreach (var certificate in MeshCertificateTrust.LoadCaFile(options.BackendCaFile))
            {
                certificate.Dispose();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            return ValidateOptionsResult.Fail($"{BackendTlsOptions.SectionName}:BackendCaFile '{options.BackendCaFile}': {e.Message}");
        }

        return ValidateOptionsResult.Success;
    }
}
