/*
 * mof.h - MOF (DSP0221 / Windows mofcomp dialect) class declarations to
 * cim_class, and cim_class back to MOF text.
 *
 * Ownership: classes are allocated in the schema's arena.
 */
#ifndef SMBCIM_MOF_H
#define SMBCIM_MOF_H

#include "cim/cim.h"

/* Parses MOF text and adds its classes to `schema` (superclasses must be
 * declared before use, in this text or already in the schema).  Supports
 * comments, #pragma (namespace/classflags ignored, others rejected),
 * qualifier declarations (accepted and skipped), class declarations with
 * class and property qualifiers, all DSP0004 intrinsic types, arrays (T
 * Name[] / Name[n]), references (Class REF Name), default values,
 * adjacent string concatenation, and Override.  Errors give
 * "FILE:LINE:COL: message" and WBEM_E_INVALID_SYNTAX (instances of
 * classes are WBEM_E_NOT_SUPPORTED). */
smbcim_status mof_parse(cim_schema *schema, const char *text, size_t len,
                        const char *filename, smbcim_error *err);

/* Appends the class as MOF source to b: class qualifiers, the class line
 * with its superclass, and the properties declared or overridden in this
 * class with their qualifiers, one per line, tab-indented. */
void mof_print_class(sc_buf *b, const cim_class *cls);

/* Appends an instance as GetObjectText does: "instance of Class\n{\n",
 * "\tProp = value;\n" for each present non-NULL property in class order,
 * "};\n". */
void mof_print_instance(sc_buf *b, const cim_instance *inst);

#endif
