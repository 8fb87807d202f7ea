using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Payments;

/// <summary>Configuration of the payments service (section <c>Payments</c>).</summary>
public sealed class PaymentsOptions
{
    public const string SectionName = "Payments";

    /// <summary>Directory of the SQLite file <c>payments.db</c>, created if missing.</summary>
    /// <value>The default value is <c>data</c>, relative to the current directory.</value>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>A PostgreSQL connection string; when set, PostgreSQL replaces the embedded SQLite ledger.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Comma-separated ISO 4217 codes accepted by <c>Charge</c>.</summary>
    /// <value>The default value is <c>USD,EUR,GBP</c>.</value>
    [Required]
    [RegularExpression("^[A-Z]{3}(,[A-Z]{3})*$", ErrorMessage = "Payments:Currencies must be comma-separated ISO 4217 codes, e.g. 'USD,EUR,GBP'.")]
    public string Currencies { get; set; } = "USD,EUR,GBP";

    /// <summary>Page size used when a request asks for 0.</summary>
    /// <value>The default value is 20; valid range 1-1000 and at most <see cref="MaxPageSize"/>.</value>
    [Range(1, 1000)]
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>Largest page size a request may ask for.</summary>
    /// <value>The default value is 100; valid range 1-1000.</value>
    [Range(1, 1000)]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Whether demo data is seeded at start-up.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Seed { get; set; } = true;

    /// <summary>Comma-separated tenants that get the demo accounts <c>acct-0001</c> … <c>acct-0100</c>.</summary>
    /// <value>The default value is <c>acme,globex,initech</c>.</value>
    [RegularExpression("^([a-z0-9][a-z0-9-]{0,63}(,[a-z0-9][a-z0-9-]{0,63})*)?$", ErrorMessage = "Payments:SeedTenants must be comma-separated tenant ids (a-z, 0-9, '-').")]
    public string SeedTenants { get; set; } = "acme,globex,initech";

    /// <summary>The database connection pools.</summary>
    [ValidateObjectMembers]
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>The configured currencies as a set.</summary>
    public IReadOnlySet<string> CurrencySet() => Currencies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>The configured seed tenants.</summary>
    public IReadOnlyList<string> SeedTenantList() => SeedTenants.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Bounded, partitioned connection pools in front of the ledger (section <c>Payments:Database</c>).
/// Charges and reads have separate pools so a flood of reads can never starve charges.
/// </summary>
public sealed class DatabaseOptions
{
    /// <summary>Connections for <c>Charge</c> (PostgreSQL).</summary>
    /// <value>The default value is 4; valid range 1-256. SQLite always uses one writer connection.</value>
    [Range(1, 256)]
    public int ChargePoolSize { get; set; } = 4;

    /// <summary>Connections for <c>GetBalance</c> and <c>ListPayments</c>.</summary>
    /// <value>The default value is 8; valid range 1-256.</value>
    [Range(1, 256)]
    public int ReadPoolSize { get; set; } = 8;

    /// <summary>How long a call may wait for a pooled connection before it fails with <c>UNAVAILABLE</c>.</summary>
    /// <value>The default value is 2 seconds; valid range 1 ms to 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan MaxPoolWait { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Source-generated validator for <see cref="PaymentsOptions"/> (no reflection at start-up).</summary>
[OptionsValidator]
public sealed partial class PaymentsOptionsValidator : IValidateOptions<PaymentsOptions>
{
}
