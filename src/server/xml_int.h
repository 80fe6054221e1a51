/*
 * xml_int.h - what the two request parsers (cimxml_req.c, wsman_req.c)
 * share of expat: where the parser is, as the 1-based line and column their
 * error messages give.  Expat 2.9 deprecates XML_GetCurrent{Line,Column}Number
 * for their *64 twins, which older expat (2.5 in Debian 12) does not have;
 * -Werror makes that a build failure, so it is answered here, once.
 */
#ifndef SMBCIM_SERVER_XML_INT_H
#define SMBCIM_SERVER_XML_INT_H

#include <expat.h>

#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 9)
#define SC_XML_LINE(p) XML_GetCurrentLineNumber64(p)
#define SC_XML_COL(p) XML_GetCurrentColumnNumber64(p)
#else
#define SC_XML_LINE(p) XML_GetCurrentLineNumber(p)
#define SC_XML_COL(p) XML_GetCurrentColumnNumber(p)
#endif

static inline unsigned xml_line(XML_Parser p)
{
    return (unsigned)SC_XML_LINE(p);
}

/* 1-based (expat counts columns from 0) */
static inline unsigned xml_col(XML_Parser p)
{
    return (unsigned)SC_XML_COL(p) + 1;
}

#endif
