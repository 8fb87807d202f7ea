using System.Text.RegularExpressions;
using MeshBulkheads.ServiceDefaults.Grpc;

namespace MeshBulkheads.Payments.Api;

/// <summary>Argument checks with messages that name the field and what it accepts.</summary>
internal static partial class PaymentRequestValidation
{
    public const int MaxAccountIdLength = 64;
    public const int MaxIdempotencyKeyLength = 128;

    public static void AccountId(string accountId)
    {
        if (string.IsNullOrEmpty(accountId))
        {
            throw GrpcErrors.InvalidArgument($"account_id is required: 1-{MaxAccountIdLength} characters of A-Z, a-z, 0-9, '.', '_' or '-'.");
        }

        if (!AccountIdPattern().IsMatch(accountId))
        {
            throw GrpcErrors.InvalidArgument($"account_id must be 1-{MaxAccountIdLength} characters of A-Z, a-z, 0-9, '.', '_' or '-' (got {accountId.Length} characters, e.g. use 'acct-0001').");
        }
    }

    public static void IdempotencyKey(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw GrpcErrors.InvalidArgument($"idempotency_key is required (1-{MaxIdempotencyKeyLength} characters): reuse the same key to retry a charge safely, a new one for a new charge.");
        }

        if (key.Length > MaxIdempotencyKeyLength)
        {
            throw GrpcErrors.InvalidArgument($"idempotency_key must be at most {MaxIdempotencyKeyLength} characters (got {key.Length}).");
        }
    }

    public static void Amount(long amountMinor)
    {
        if (amountMinor <= 0)
        {
            throw GrpcErrors.InvalidArgument($"amount_minor must be greater than 0, in minor units (e.g. 1250 = 12.50); got {amountMinor}.");
        }
    }

    public static void Currency(string currency, IReadOnlySet<string> allowed, string allowedList)
    {
        if (!allowed.Contains(currency))
        {
            var shown = currency.Length == 0 ? "empty" : $"'{(currency.Length > 8 ? currency[..8] + "…" : currency)}'";
            throw GrpcErrors.InvalidArgument($"currency {shown} is not supported: use one of {allowedList} (upper-case ISO 4217).");
        }
    }

    public static int PageSize(int pageSize, int defaultPageSize, int maxPageSize)
    {
        if (pageSize < 0 || pageSize > maxPageSize)
        {
            throw GrpcErrors.InvalidArgument($"page_size must be between 0 and {maxPageSize} (0 means the default, {defaultPageSize}); got {pageSize}.");
        }

        return pageSize == 0 ? defaultPageSize : pageSize;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex AccountIdPattern();
}
