package dev.isolation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.immutables.value.Value;

/**
 * How Immutables generates the spec's implementation: hidden behind the abstract type. Source
 * retention keeps the style out of the class files, so that users compiling against this jar
 * need no Immutables jar and see no warning about it.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.SOURCE)
@Value.Style(
        visibility = Value.Style.ImplementationVisibility.PACKAGE,
        overshadowImplementation = true,
        jdkOnly = true,
        defaults = @Value.Immutable(copy = false))
@interface SpecStyle {
}
