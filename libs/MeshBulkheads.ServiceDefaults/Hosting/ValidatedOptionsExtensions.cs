using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The one way every process registers a configuration section as options.</summary>
public static class ValidatedOptionsExtensions
{
    /// <summary>
    /// Binds section <paramref name="sectionName"/> to <typeparamref name="TOptions"/> (reloads included), checks it
    /// with <typeparamref name="TValidator"/> (the source-generated <c>[OptionsValidator]</c> or a cross-field one)
    /// and validates it at start, so a bad value stops the process before it serves instead of on first use.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string sectionName)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services.AddOptions<TOptions>().BindConfiguration(sectionName).ValidateOnStart();
    }
}
