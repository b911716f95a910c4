// SPDX-License-Identifier: MIT
// Where the bundled checkpoints and sample text are: the resources folder is looked up in a fixed
// order so that the same binary works from the build tree, an install and a relocated copy.
#pragma once

#include <QtCore/QString>

namespace attn::ui {

/// The first existing folder of: envValue ($ATTNSCOPE_RESOURCES), <exeDir>/../resources,
/// <exeDir>/../../resources, and the source tree's resources/ (compile-time ATTN_RESOURCES_DIR).
/// Empty when none exists.
QString findResourcesDir(const QString& envValue, const QString& exeDir);

/// The folder <resourcesDir>/checkpoints/DEFAULT names, else the first folder there (by name),
/// that holds a config.json; empty when there is none.
QString defaultCheckpointDir(const QString& resourcesDir);

/// <resourcesDir>/text/sample.txt when it can be read, else a built-in sentence.
QString defaultSampleText(const QString& resourcesDir);

}  // namespace attn::ui
