using System.Text.RegularExpressions;

namespace MeshBulkheads.ServiceDefaults.Grpc;

/// <summary>
/// The one rule for an account id, shared by payments (which stores them) and reporting (which must
/// refuse a bad id before it takes a permit or fans out): 1-64 characters of A-Z, a-z, 0-9, '.', '_'
/// or '-'. Anchored with <c>\z</c>, not <c>$</c>: <c>$</c> also matches before a final newline, so
/// <c>"acct-0001\n"</c> would pass.
/// </summary>
public static partial class AccountIdRule
{
    /// <summary>The longest valid account id.</summary>
    public const int MaxLength = 64;

    /// <summary>What a valid id looks like, for messages.</summary>
    public const string Description = "1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'";

    /// <summary>Whether <paramref name="accountId"/> is a valid account id.</summary>
    public static bool IsValid(string? accountId) =>
        !string.IsNullOrEmpty(accountId) && accountId.Length <= MaxLength && Pattern().IsMatch(accountId);

    [GeneratedRegex(@"\A[A-Za-z0-9._-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
