/*
 * mof.h - MOF (DSP0221 / Windows mofcomp dialect) class declarations to
 * cim_class, and cim_class back to MOF text.
 *
 * Ownership: classes are allocated in the schema's arena.
 */
#ifndef SMBCIM_MOF_H
#define SMBCIM_MOF_H

#include "cim/cim.h"

/* Parses MOF text and adds its classes and qualifier declarations to
 * `schema` (superclasses must be declared before use, in this text or
 * already in the schema).  Supports comments, #pragma (namespace,
 * classflags, locale ... ignored, include and others rejected), qualifier
 * type declarations (Qualifier Name : type [= value], Scope(...)
 * [, Flavor(...)];), class declarations with class, property, method and
 * parameter qualifiers, all DSP0004 intrinsic types, arrays (T Name[] /
 * Name[n]), references (Class REF Name), default values, methods with
 * their parameters (void or intrinsic return type; intrinsic, array and
 * REF parameters), adjacent string concatenation, and Override.
 *
 * Once the schema holds a qualifier declaration it is strict (DSP0004):
 * every qualifier used must be declared, its value is converted to the
 * declared type, its scope and DisableOverride flavor are enforced, it
 * gets the declared flavors, a class declaring a REF property must itself
 * carry Association, and an EmbeddedInstance must name a declared class.  Without declarations (mofcomp's way) a
 * qualifier's type follows its value.
 *
 * Errors give "FILE:LINE:COL: message" and WBEM_E_INVALID_SYNTAX
 * (WBEM_E_INVALID_CLASS for an undeclared superclass, REF class or
 * EmbeddedInstance class,
 * WBEM_E_INVALID_QUALIFIER for a qualifier that is undeclared, out of
 * scope, of the wrong type or overrides a DisableOverride one,
 * WBEM_E_NOT_SUPPORTED for instances). */
smbcim_status mof_parse(cim_schema *schema, const char *text, size_t len,
                        const char *filename, smbcim_error *err);

/* Appends the class as MOF source to b: class qualifiers, the class line
 * with its superclass, the properties then the methods declared or
 * overridden in this class with their qualifiers (one property per line,
 * tab-indented; a method's parameters one per line below it), and only
 * the flavors that differ from the qualifier's declaration.  Printed text
 * parses back (into a schema with the same qualifier declarations) into
 * the same class. */
void mof_print_class(sc_buf *b, const cim_class *cls);

/* Appends a qualifier type declaration as MOF ("Qualifier Name : type
 * = value,\n    Scope(...),\n    Flavor(...);\n"). */
void mof_print_qualifier_decl(sc_buf *b, const cim_qualifier_decl *d);

/* Appends an instance as GetObjectText does: "instance of Class\n{\n",
 * "\tProp = value;\n" for each present non-NULL property in class order,
 * "};\n".  An embedded object (an event's TargetInstance) is a nested
 * "instance of" block, one tab deeper (at most 8 levels). */
void mof_print_instance(sc_buf *b, const cim_instance *inst);

#endif
