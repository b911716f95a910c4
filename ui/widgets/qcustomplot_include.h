// SPDX-License-Identifier: MIT
// Includes <qcustomplot.h> under QT_NO_KEYWORDS. QCustomPlot 2.1's header uses the `signals`
// and `foreach` keyword macros, which QT_NO_KEYWORDS (needed because of LibTorch) removes; they
// are defined for this one include only. Include this instead of <qcustomplot.h>.
#pragma once

#include <QtCore/qglobal.h>

#if defined(QT_NO_KEYWORDS) && !defined(signals)
#define ATTN_QCP_UNDEF_SIGNALS
#define signals Q_SIGNALS
#endif
#if defined(QT_NO_KEYWORDS) && !defined(foreach)
#define ATTN_QCP_UNDEF_FOREACH
#define foreach Q_FOREACH
#endif

#include <qcustomplot.h>

#ifdef ATTN_QCP_UNDEF_SIGNALS
#undef signals
#undef ATTN_QCP_UNDEF_SIGNALS
#endif
#ifdef ATTN_QCP_UNDEF_FOREACH
#undef foreach
#undef ATTN_QCP_UNDEF_FOREACH
#endif
